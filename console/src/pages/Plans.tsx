export function Plans(_props: { id?: string }) { return <h1>Plans</h1>; }
