// Public surface of the opening handshake (HTTP/1.1 Upgrade, RFC 6455 §4).
export {};
