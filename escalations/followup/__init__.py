"""After the incident: reviews, action items, war rooms, vendor cases, reminders."""
