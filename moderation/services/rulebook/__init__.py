"""The screening rules kept in the database: what the admin edits and the screening core applies."""
