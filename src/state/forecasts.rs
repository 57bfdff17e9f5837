//! Forecast history: every forecast a non-dry run makes, per report and
//! team, read back by later runs for forecast accuracy and the track record.

use super::Store;
use crate::metrics::{Method, StoredForecast};
use crate::period::Period;
use anyhow::Result;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

impl Store {
    /// Stores forecasts (values already rounded to cents) of `report` and
    /// `team` ("" for the organisation); the same method, target and as_of
    /// replaces an earlier value.
    pub fn save_forecasts(
        &mut self,
        report: &str,
        team: &str,
        target: &Period,
        as_of: NaiveDate,
        values: &[(Method, Decimal)],
    ) -> Result<()> {
        let now = chrono::Utc::now().to_rfc3339();
        let tx = self
            .conn()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut st = tx.prepare(
                "INSERT INTO forecasts (report, team, method, target_label, target_start, target_end, as_of, value, stored_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (report, team, method, target_start, target_end, as_of)
                 DO UPDATE SET value = excluded.value, stored_at = excluded.stored_at,
                               target_label = excluded.target_label",
            )?;
            for (m, v) in values {
                st.execute(rusqlite::params![
                    report,
                    team,
                    m.as_str(),
                    target.label(),
                    target.start.to_string(),
                    target.end.to_string(),
                    as_of.to_string(),
                    v.to_string(),
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every forecast stored for `report` and `team`, whatever its target.
    pub fn stored_forecasts(&mut self, report: &str, team: &str) -> Result<Vec<StoredForecast>> {
        let mut st = self.conn().prepare(
            "SELECT method, target_start, target_end, as_of, value FROM forecasts
             WHERE report = ?1 AND team = ?2",
        )?;
        let rows = st.query_map([report, team], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (m, s, e, a, v) = row?;
            let (Some(method), Ok(s), Ok(e), Ok(a), Ok(v)) = (
                Method::parse(&m),
                NaiveDate::from_str(&s),
                NaiveDate::from_str(&e),
                NaiveDate::from_str(&a),
                Decimal::from_str(&v),
            ) else {
                continue; // a row a newer version wrote in a form this one does not know
            };
            out.push(StoredForecast {
                method,
                target_start: s,
                target_end: e,
                as_of: a,
                value: v,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_same_key_and_keeps_teams_apart() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let p = Period::parse("2026-07", 1).unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let one = |v: i64| [(Method::StageWeighted, Decimal::from(v))];
        s.save_forecasts("r", "", &p, d, &one(100)).unwrap();
        s.save_forecasts("r", "", &p, d, &one(120)).unwrap();
        s.save_forecasts("r", "Seoul", &p, d, &one(7)).unwrap();
        let got = s.stored_forecasts("r", "").unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].value, Decimal::from(120));
        assert_eq!(
            s.stored_forecasts("r", "Seoul").unwrap()[0].value,
            Decimal::from(7)
        );
        assert!(s.stored_forecasts("other", "").unwrap().is_empty());
    }
}
