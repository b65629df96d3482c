"""Reminders and confirmations reaching members where they are: an outbox of messages sent by
the job worker through email (SMTP), SMS and WhatsApp gateways (HTTP), or a file in
development. The areas below send signals (a receipt recorded, a registration moved); this
area listens and queues the messages, so they never import it."""
