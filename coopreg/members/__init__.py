"""The member register: people, IDs, dependants, documents, consent and status history."""
