"""Time as people say it: the clock, HH:MM times of day, time words and dates ("tomorrow 9am", "fri")."""
