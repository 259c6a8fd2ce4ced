"""Pure rules of the helpline: no I/O, no framework, no clock reads."""
