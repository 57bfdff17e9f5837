//! Forecast history: every forecast a non-dry run makes, read back by later
//! runs for forecast accuracy.

use super::Store;
use crate::metrics::{Method, StoredForecast};
use crate::period::Period;
use anyhow::Result;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

impl Store {
    /// Stores forecasts (values already rounded to cents); the same method,
    /// target and as_of replaces an earlier value.
    pub fn save_forecasts(
        &mut self,
        report: &str,
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
                "INSERT INTO forecasts (method, target_label, target_start, target_end, as_of, value, report, stored_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (method, target_start, target_end, as_of)
                 DO UPDATE SET value = excluded.value, report = excluded.report, stored_at = excluded.stored_at,
                               target_label = excluded.target_label",
            )?;
            for (m, v) in values {
                st.execute(rusqlite::params![
                    m.as_str(),
                    target.label(),
                    target.start.to_string(),
                    target.end.to_string(),
                    as_of.to_string(),
                    v.to_string(),
                    report,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every stored forecast whose target is `p`.
    pub fn forecasts_for(&mut self, p: &Period) -> Result<Vec<StoredForecast>> {
        let mut st = self.conn().prepare(
            "SELECT method, target_start, target_end, as_of, value FROM forecasts
             WHERE target_start = ?1 AND target_end = ?2",
        )?;
        let rows = st.query_map([p.start.to_string(), p.end.to_string()], |r| {
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

    /// Accuracy history: for each finished target before `before`, the
    /// stored forecasts (for the report's trend of accuracy by method).
    pub fn forecast_targets_before(
        &mut self,
        before: NaiveDate,
        limit: usize,
    ) -> Result<Vec<(String, NaiveDate, NaiveDate)>> {
        let mut st = self.conn().prepare(
            "SELECT DISTINCT target_label, target_start, target_end FROM forecasts
             WHERE target_end <= ?1 ORDER BY target_start DESC LIMIT ?2",
        )?;
        let rows = st.query_map(rusqlite::params![before.to_string(), limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (l, s, e) = row?;
            if let (Ok(s), Ok(e)) = (NaiveDate::from_str(&s), NaiveDate::from_str(&e)) {
                out.push((l, s, e));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_same_key_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let p = Period::parse("2026-07", 1).unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        s.save_forecasts("r", &p, d, &[(Method::StageWeighted, Decimal::from(100))])
            .unwrap();
        s.save_forecasts("r", &p, d, &[(Method::StageWeighted, Decimal::from(120))])
            .unwrap();
        let got = s.forecasts_for(&p).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].value, Decimal::from(120));
        assert!(s
            .forecasts_for(&Period::parse("2026-08", 1).unwrap())
            .unwrap()
            .is_empty());
    }
}
