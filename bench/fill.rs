//! Fills a store quickly with a realistic registry for the benchmarks: departments, an admin,
//! events spread over 2015–2026 with their audiences, partners, organisers and attendance, and
//! named attendees. It writes rows directly in batches (not through the API, and so without audit
//! entries) — a benchmark fixture, not a way to load real data.
//!
//! One month, March 2024, always holds the same events (the first `min(events, 1000)`), so a
//! one-month report can be compared as the table grows around it.
//!
//! cargo run --release --example bench-fill -- DATABASE_URL EVENTS ATTENDEES ADMIN_PASSWORD
//!
//! With `BENCH_TREE=17x12x10` the ten flat departments give way to a national tree, created
//! through `departments::store::insert` as the server creates them (closure rows included): one
//! country (`bench-country`, an administration), 17 regions (`bench-r01`…, administrations), 12
//! districts in each (`bench-r01-d01`…, administrations) and 10 units in each district
//! (`bench-r01-d01-u01`…). Events are led and partnered by the units; attendees come mostly from
//! their district's people, some from their region's (who attend in several of its districts) and
//! a few from the whole country's (who attend in several regions), so a region's unique people
//! are fewer than its districts' added up.

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
    let tree = std::env::var("BENCH_TREE").ok().map(|v| Tree::parse(&v)).transpose()?;
    let started = std::time::Instant::now();
    let departments = match &tree {
        Some(tree) => make_tree(&mut conn, tree)?,
        None => make_departments(&mut conn)?,
    };
    let held = fill_events(&mut conn, &departments, events)?;
    fill_attendees(&mut conn, &held, attendees, tree.as_ref())?;
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

/// The shape of `BENCH_TREE`: regions, districts in each region, units in each district.
struct Tree {
    regions: usize,
    districts: usize,
    units: usize,
}

impl Tree {
    fn parse(v: &str) -> anyhow::Result<Tree> {
        let parts: Vec<usize> = v.split('x').map(str::parse).collect::<Result<_, _>>().context("BENCH_TREE")?;
        let [regions, districts, units] = parts.as_slice() else {
            anyhow::bail!("BENCH_TREE is REGIONSxDISTRICTSxUNITS, such as 17x12x10");
        };
        anyhow::ensure!(parts.iter().all(|&n| (1..100).contains(&n)), "BENCH_TREE: each level 1 to 99");
        Ok(Tree { regions: *regions, districts: *districts, units: *units })
    }
}

/// The national tree, region by region; answers the units' ids, district by district (so a
/// unit's index tells its district and region).
fn make_tree(conn: &mut DbConnection, tree: &Tree) -> anyhow::Result<Vec<String>> {
    use adal::departments::store::{NewDepartment, find_by_code, insert};
    fn department(
        conn: &mut DbConnection,
        code: &str,
        names: (&str, &str),
        parent: Option<&str>,
        kind: &str,
    ) -> QueryResult<String> {
        if let Some(row) = find_by_code(conn, code)? {
            return Ok(row.id);
        }
        let (name_kk, name_ru) = names;
        let new = NewDepartment { code, name_kk, name_ru, parent_id: parent, kind, name_en: None };
        Ok(insert(conn, &new)?.id)
    }
    let country = store::write_tx(conn, |conn| {
        department(conn, "bench-country", ("Қазақстан", "Казахстан"), None, "administration")
    })?;
    let mut units = Vec::with_capacity(tree.regions * tree.districts * tree.units);
    for r in 1..=tree.regions {
        store::write_tx(conn, |conn| -> QueryResult<()> {
            let region = format!("bench-r{r:02}");
            let names = (format!("{r}-облыс"), format!("Область {r}"));
            let region_id = department(conn, &region, (&names.0, &names.1), Some(&country), "administration")?;
            for d in 1..=tree.districts {
                let district = format!("{region}-d{d:02}");
                let names = (format!("{r}.{d}-аудан"), format!("Район {r}.{d}"));
                let district_id =
                    department(conn, &district, (&names.0, &names.1), Some(&region_id), "administration")?;
                for u in 1..=tree.units {
                    let names = (format!("Бөлім {r}.{d}.{u}"), format!("Отдел {r}.{d}.{u}"));
                    let code = format!("{district}-u{u:02}");
                    units.push(department(conn, &code, (&names.0, &names.1), Some(&district_id), "unit")?);
                }
            }
            Ok(())
        })?;
    }
    Ok(units)
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

/// Writes the events in batches; answers the ids of the held ones, each with its lead
/// department's index in `departments`.
fn fill_events(conn: &mut DbConnection, departments: &[String], count: usize) -> anyhow::Result<Vec<(String, usize)>> {
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
            let lead_index = rng.below(departments.len() as u64) as usize;
            let lead = departments[lead_index].clone();
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
                held.push((id.clone(), lead_index));
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

/// Where a tree's attendees come from: each event's attendee rows, by their index among its rows
/// (`slot`, turned by the event's number), are drawn 16 in 20 from its district's people, 3 in 20
/// from its region's and 1 in 20 from the country's; each person attends about three times.
struct People {
    units: usize,
    districts: usize,
    district_pool: u64,
    region_pool: u64,
    country_pool: u64,
}

impl People {
    fn new(tree: &Tree, rows: usize, held: usize) -> People {
        let all_districts = (tree.regions * tree.districts) as u64;
        // A pool is never smaller than an event's rows, so an event never names a person twice.
        let slots = rows.div_ceil(held) as u64 + 40;
        let pool = |share: f64, pools: u64| ((rows as f64 * share / pools as f64 / 3.0) as u64).max(slots);
        People {
            units: tree.units,
            districts: tree.districts,
            district_pool: pool(0.80, all_districts),
            region_pool: pool(0.15, tree.regions as u64),
            country_pool: pool(0.05, 1),
        }
    }

    /// The person in row `slot` of held event number `event`, led by unit number `unit`: the
    /// pool's tag, its district or region, and the index within the pool, packed in one number.
    fn person(&self, unit: usize, event: usize, slot: usize) -> u64 {
        let district = (unit / self.units) as u64;
        let region = district / self.districts as u64;
        // Each event starts the pattern elsewhere, so events with few rows draw from every pool.
        let turned = slot as u64 + event as u64 % 20;
        let (slot, cycle) = (turned % 20, turned / 20);
        let (tag, place, index, pool) = match slot {
            0..=15 => (2, district, cycle * 16 + slot, self.district_pool),
            16..=18 => (1, region, cycle * 3 + slot - 16, self.region_pool),
            _ => (0, 0, cycle, self.country_pool),
        };
        // Consecutive indexes within an event are distinct people of the pool.
        (tag << 60) | (place << 32) | ((event as u64 * 7919 + index) % pool)
    }
}

fn fill_attendees(
    conn: &mut DbConnection,
    held: &[(String, usize)],
    count: usize,
    tree: Option<&Tree>,
) -> anyhow::Result<()> {
    if held.is_empty() {
        return Ok(());
    }
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let now = store::now();
    // People: a pool smaller than the rows, so the same person attends several events.
    let people = (count / 3).max(1) as u64;
    let tree_people = tree.map(|t| People::new(t, count, held.len()));
    for chunk_start in (0..count).step_by(2000) {
        let n = 2000.min(count - chunk_start);
        let mut rows = Vec::with_capacity(n);
        for i in chunk_start..chunk_start + n {
            // Each row's event follows from its index, and its person is unique within that event.
            let (event, unit) = &held[i % held.len()];
            let person = match &tree_people {
                Some(p) => p.person(*unit, i % held.len(), i / held.len()),
                None => (i / held.len()) as u64 * 7919 % people,
            };
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
