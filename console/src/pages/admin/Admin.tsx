export function Admin(_props: { tab?: string }) { return <h1>Admin</h1>; }
