"""Reports: an attendee tells a series' organizers about another person's conduct."""
