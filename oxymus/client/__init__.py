"""The client side of the socket: the wire format, the protocol models, the sync and async clients, the capture fallback and starting a daemon."""
