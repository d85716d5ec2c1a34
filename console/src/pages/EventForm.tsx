export function EventForm(_props: { id?: string }) { return <h1>EventForm</h1>; }
