// Opens a server and a client endpoint of `codec` against each other in
// memory, so a case measures the frame phase of an endpoint that went
// through a real opening handshake (extensions negotiated inside).
export function openPair(codec, { server = {}, client = {} } = {}) {
  const s = new codec.ServerEndpoint(server);
  const c = new codec.ClientEndpoint('ws://localhost/', client);
  for (const b of c.takeOutgoing()) s.receive(b);
  const request = s.nextEvent();
  if (request?.type !== 'request') throw new Error(`expected a request, got ${request?.type}`);
  s.send({ type: 'accept' });
  s.nextEvent();
  for (const b of s.takeOutgoing()) c.receive(b);
  const open = c.nextEvent();
  if (open?.type !== 'open') throw new Error(`expected open, got ${open?.type}`);
  return { server: s, client: c };
}
