//! Half-open windows of local dates, tested against CRM times without
//! converting each record's instant to a local date (a zone conversion per
//! record would dominate the run time on millions of activities).

use crate::period::day_start;
use crate::snapshot::When;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// The start of a local day, as a date and as the instant it begins.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
}

impl Bound {
    pub fn new(date: NaiveDate, tz: Tz) -> Bound {
        Bound {
            date,
            at: day_start(date, tz),
        }
    }

    /// True when `w` lies before the start of this day.
    #[inline]
    pub fn after(&self, w: &When) -> bool {
        match w {
            When::Date(d) => *d < self.date,
            When::Instant(t) => *t < self.at,
        }
    }
}

/// Local dates `[start, end)`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Bound,
    pub end: Bound,
}

impl Window {
    pub fn new(start: NaiveDate, end: NaiveDate, tz: Tz) -> Window {
        Window {
            start: Bound::new(start, tz),
            end: Bound::new(end, tz),
        }
    }

    /// The same window cut off at `as_of` (nothing on or after it exists yet).
    pub fn until(self, as_of: Bound) -> Window {
        if as_of.date < self.end.date {
            Window {
                start: self.start,
                end: as_of,
            }
        } else {
            self
        }
    }

    #[inline]
    pub fn contains(&self, w: &When) -> bool {
        !self.start.after(w) && self.end.after(w)
    }

    #[inline]
    pub fn contains_date(&self, d: NaiveDate) -> bool {
        self.start.date <= d && d < self.end.date
    }
}
