"""HTTP and WebSocket endpoints: parse, validate, call a use case, answer. Thin."""
