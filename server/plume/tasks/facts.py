"""The readers of dates, deadlines, amounts, times and number words the tasks use. They are pure
language (no task, no model), so they live in plume.language.readers; this module keeps the names
the tasks import."""

from plume.language.readers import (AMOUNT, DEADLINE_BEFORE, ISO_DATE, MONTHS, NUMBER_WORD, NUMERIC_DATE,
                                    RELATIVE_DEADLINE, TIME, WRITTEN_DATE, Found, find_amounts, find_dates,
                                    find_deadlines, find_times, number_from_words, parse_number, spoken_time)

__all__ = ["AMOUNT", "DEADLINE_BEFORE", "ISO_DATE", "MONTHS", "NUMBER_WORD", "NUMERIC_DATE", "RELATIVE_DEADLINE",
           "TIME", "WRITTEN_DATE", "Found", "find_amounts", "find_dates", "find_deadlines", "find_times",
           "number_from_words", "parse_number", "spoken_time"]
