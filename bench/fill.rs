//! Fills a store quickly with a realistic registry for the benchmarks: departments, an admin,
//! events spread over 2015–2026 with their audiences, partners, organisers and attendance, and
//! named attendees. It writes rows directly in batches (not through the API, and so without audit
//! entries) — a benchmark fixture, not a way to load real data.
//!
//! One month, March 2024, always holds the same events (the first `min(events, 1000)`), so a
//! one-month report can be compared as the table grows around it.
//!
//! cargo run --release --example bench-fill -- DATABASE_URL EVENTS ATTENDEES ADMIN_PASSWORD

use adal::config::{Config, Secret};
use adal::store::schema::{
    attendees as a, event_audiences as ea, event_breakdown as eb, event_partners as ep, events as e,
};
use adal::store::{self, DbConnection, PoolSettings, StoreUrl};
use anyhow::Context;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// A small deterministic generator (xorshift), so two fills of the same size are the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const KINDS: [&str; 8] = ["lecture", "seminar", "round_table", "training", "meeting", "contest", "campaign", "other"];
const AUDIENCES: [&str; 6] =
    ["youth", "schoolchildren", "students", "civil_servants", "entrepreneurs", "general_public"];
const WORDS: [&str; 10] = [
    "Адалдық",
    "сағаты",
    "жастар",
    "мәдениет",
    "дөңгелек үстел",
    "құқықтық сауат",
    "әдеп",
    "кездесу",
    "тренинг",
    "науқан",
];
const NAMES: [&str; 6] =
    ["Айгүл Сейітқызы", "Ерлан Жақсылықов", "Дана Мұратқызы", "Нұрлан Әбдіқадыров", "Әлия Серікова", "Бақыт Омаров"];

fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, 0, 0)).expect("a valid instant")
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, events, attendees, password] = args.as_slice() else {
        anyhow::bail!("usage: bench-fill DATABASE_URL EVENTS ATTENDEES ADMIN_PASSWORD");
    };
    let events: usize = events.parse().context("EVENTS")?;
    let attendees: usize = attendees.parse().context("ATTENDEES")?;
    let url = StoreUrl::parse(url).map_err(anyhow::Error::msg)?;
    let mut config = Config::for_store(url.clone());
    config.admin_password = Some(Secret::new(password.as_bytes()));
    let pool = store::build_pool(
        &url,
        &PoolSettings {
            max_size: 1,
            checkout_timeout: std::time::Duration::from_secs(10),
            sqlite_busy_timeout: std::time::Duration::from_secs(10),
        },
    )?;
    let mut conn = pool.get()?;
    store::run_migrations(&mut conn)?;
    adal::bootstrap::first_start(&mut conn, &config)?;
    let departments = make_departments(&mut conn)?;
    let started = std::time::Instant::now();
    let held = fill_events(&mut conn, &departments, events)?;
    fill_attendees(&mut conn, &held, attendees)?;
    if let DbConnection::Postgres(c) = &mut *conn {
        // VACUUM as well: filling `children` rewrote every event row, and autovacuum would not
        // have caught up before the measurements start (production reaches that state by itself).
        diesel::sql_query("VACUUM ANALYZE").execute(c)?;
    }
    eprintln!("filled {events} events and {attendees} attendees in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn make_departments(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for i in 0..10 {
        let code = format!("bench-dept-{i}");
        let row = match adal::departments::store::find_by_code(conn, &code)? {
            Some(r) => r,
            None => adal::departments::store::insert(
                conn,
                &adal::departments::store::NewDepartment::unit(
                    &code,
                    &format!("Бөлім {i}"),
                    &format!("Отдел {i}"),
                    None,
                ),
            )?,
        };
        ids.push(row.id);
    }
    Ok(ids)
}

fn starts_at(i: usize, rng: &mut Rng) -> NaiveDateTime {
    if i < 1000 {
        // The fixed month: March 2024 (local), whatever the table's size.
        at(2024, 3, 2 + (i % 27) as u32, 4 + (i % 10) as u32)
    } else {
        // Elsewhere in 2015–2026, never in March 2024.
        loop {
            let t = at(2015, 1, 1, 0) + Duration::hours(rng.below(12 * 365 * 24) as i64);
            if !(t >= at(2024, 2, 29, 18) && t < at(2024, 3, 31, 19)) {
                return t;
            }
        }
    }
}

/// Writes the events in batches; answers the ids of the held ones.
fn fill_events(conn: &mut DbConnection, departments: &[String], count: usize) -> anyhow::Result<Vec<String>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let now = store::now();
    let mut held = Vec::new();
    for chunk_start in (0..count).step_by(500) {
        let n = 500.min(count - chunk_start);
        let mut rows = Vec::with_capacity(n);
        let mut audiences = Vec::new();
        let mut partners = Vec::new();
        let mut breakdown = Vec::new();
        for i in chunk_start..chunk_start + n {
            let id = uuid::Uuid::now_v7().to_string();
            let start = starts_at(i, &mut rng);
            let kind = KINDS[rng.below(KINDS.len() as u64) as usize];
            let title = format!(
                "{} {} №{i}",
                if rng.below(100) == 0 { "ӘДІЛДІК" } else { WORDS[rng.below(WORDS.len() as u64) as usize] },
                WORDS[rng.below(WORDS.len() as u64) as usize]
            );
            let organiser = NAMES[rng.below(NAMES.len() as u64) as usize];
            let status = match rng.below(10) {
                0 => "planned",
                1 => "cancelled",
                _ => "held",
            };
            let total = (status == "held").then(|| 10 + rng.below(120) as i32);
            let lead = departments[rng.below(departments.len() as u64) as usize].clone();
            let audience = AUDIENCES[rng.below(AUDIENCES.len() as u64) as usize];
            audiences.push((ea::event_id.eq(id.clone()), ea::audience.eq(audience)));
            if rng.below(3) == 0 {
                let partner = departments[rng.below(departments.len() as u64) as usize].clone();
                if partner != lead {
                    partners.push((ep::event_id.eq(id.clone()), ep::department_id.eq(partner)));
                }
            }
            if let Some(t) = total {
                breakdown.push((eb::event_id.eq(id.clone()), eb::audience.eq(audience), eb::count.eq(t / 2)));
                held.push(id.clone());
            }
            let search = adal::text::fold(&format!("{title}\n\nҚалалық жастар орталығы\n{organiser}"));
            rows.push((
                (
                    e::id.eq(id),
                    e::title.eq(title),
                    e::description.eq(""),
                    e::kind.eq(kind),
                    e::format.eq("in_person"),
                    e::starts_at.eq(start),
                    e::ends_at.eq(start + Duration::hours(2)),
                    e::venue.eq(Some("Қалалық жастар орталығы")),
                    e::lead_department_id.eq(lead),
                    e::planned_participants.eq(Some(60)),
                ),
                (
                    e::status.eq(status),
                    e::attendance_total.eq(total),
                    e::attendance_basis.eq(total.map(|_| "sign_in_sheet")),
                    e::search_text.eq(search),
                    e::version.eq(1i64),
                    e::created_at.eq(now),
                    e::updated_at.eq(now),
                    e::created_by.eq("bench-fill"),
                ),
            ));
        }
        store::write_tx(conn, |conn| -> QueryResult<()> {
            adal::insert_many!(conn, e::table, &rows)?;
            adal::insert_many!(conn, ea::table, &audiences)?;
            adal::insert_many!(conn, ep::table, &partners)?;
            adal::insert_many!(conn, eb::table, &breakdown)?;
            Ok(())
        })?;
    }
    // The rows above went straight into the child tables; the server reads them from each event's
    // `children` column, which its own writes keep.
    store::write_tx(conn, adal::events::store::refresh_all_children)?;
    Ok(held)
}

fn fill_attendees(conn: &mut DbConnection, held: &[String], count: usize) -> anyhow::Result<()> {
    if held.is_empty() {
        return Ok(());
    }
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let now = store::now();
    // People: a pool smaller than the rows, so the same person attends several events.
    let people = (count / 3).max(1) as u64;
    for chunk_start in (0..count).step_by(2000) {
        let n = 2000.min(count - chunk_start);
        let mut rows = Vec::with_capacity(n);
        for i in chunk_start..chunk_start + n {
            // Each row's event follows from its index, and its person is unique within that event.
            let event = &held[i % held.len()];
            let person = (i / held.len()) as u64 * 7919 % people;
            let with_iin = rng.below(10) < 7;
            let hash = with_iin
                .then(|| format!("{:064x}", person.wrapping_mul(0x9e37_79b9_7f4a_7c15) as u128 * 0x1_0000_0001));
            rows.push((
                a::id.eq(uuid::Uuid::now_v7().to_string()),
                a::event_id.eq(event.clone()),
                a::full_name.eq(NAMES[(person % NAMES.len() as u64) as usize]),
                a::iin_hash.eq(hash),
                a::iin_last2.eq(with_iin.then(|| format!("{:02}", person % 100))),
                a::created_at.eq(now),
            ));
        }
        store::write_tx(conn, |conn| -> QueryResult<()> {
            adal::insert_many!(conn, a::table, &rows)?;
            Ok(())
        })?;
    }
    Ok(())
}
