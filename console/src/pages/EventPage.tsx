export function EventPage(_props: { id: string }) { return <h1>EventPage</h1>; }
