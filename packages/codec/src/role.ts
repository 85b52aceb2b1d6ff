/** Which side of a WebSocket an object plays: the client masks its frames, the server closes TCP first. */
export type Role = 'client' | 'server';
