"""Member self-service: a member signs in with their cooperative, member number and a one-time
code the outbox sends them, and reads their own record on a basic phone (no JavaScript)."""
