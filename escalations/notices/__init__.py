"""Who hears what: the notices each change sends, composed for the outbox."""
