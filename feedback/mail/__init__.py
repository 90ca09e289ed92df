"""Reading e-mail: decoding messages and finding what the sender newly wrote."""
