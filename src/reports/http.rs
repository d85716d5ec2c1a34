//! Report routes (`reports:read`): summary, plan fulfilment and departments, each as JSON, CSV
//! (`?format=csv` or `Accept: text/csv`) or XLSX (`?format=xlsx`); summary and departments
//! compared with another period (`compare=`), the files written for people in a language (`lang=`).

use std::collections::HashMap;

use crate::http::query::Query;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get};
use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::compute::{self, Compare, Period};
use super::export::{self, CSV_TYPE, Render, XLSX_TYPE};
use super::model::{DepartmentsReport, PlanFulfilment, Summary};
use super::replica;
use super::store::Focus;
use super::tables::{DepartmentName, Wording};
use super::words::{self, Lang, LangParam};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::doc::{BadQuery, NeedsReportsRead, NoSuchPlan, PeriodRefusals};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";
const MAX_PERIOD_DAYS: i64 = 3660;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

/// `?format=` wins; else `Accept` asking for CSV or XLSX; else JSON.
fn negotiate(req: &HttpRequest, asked: Option<Format>) -> Format {
    if let Some(f) = asked {
        return f;
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if accept.contains("text/csv") {
        Format::Csv
    } else if accept.contains(XLSX_TYPE) {
        Format::Xlsx
    } else {
        Format::Json
    }
}

/// A report's period is whole local days: a date, or an RFC 3339 instant taken as its local date
/// (the form `from`/`to` have across the API).
fn date(field: &str, value: &str, tz: chrono_tz::Tz) -> Result<NaiveDate, ApiError> {
    crate::time::parse_local_date(field, value, tz)
}

/// The period from `from`/`to`, or the defaults; 422 when `from` is after `to`.
fn period(
    state: &AppState,
    from: Option<&str>,
    to: Option<&str>,
    default: (NaiveDate, NaiveDate),
) -> Result<Period, ApiError> {
    let tz = state.config.timezone;
    let from = from.map(|v| date("from", v, tz)).transpose()?.unwrap_or(default.0);
    let to = to.map(|v| date("to", v, tz)).transpose()?.unwrap_or(default.1);
    if from > to {
        return Err(ApiError::field("from", "order", "must not be after to"));
    }
    // A report is by months; a period of centuries would be thousands of them.
    if (to - from).num_days() > MAX_PERIOD_DAYS {
        return Err(ApiError::field("to", "range", "a report covers at most 10 years"));
    }
    Ok(Period { from, to, tz: state.config.timezone })
}

/// What a file says beside its figures: the report, its period and the compared one, and who
/// reads it (a language, or none for machines).
struct FileSpec {
    report: &'static str,
    from: NaiveDate,
    to: NaiveDate,
    previous: Option<(NaiveDate, NaiveDate)>,
    lang: Option<Lang>,
    names: HashMap<String, DepartmentName>,
}

impl FileSpec {
    /// The title row: the report and its period, and the compared period.
    fn title(&self) -> String {
        let lang = self.lang.unwrap_or(Lang::En);
        let day = |d: NaiveDate| match self.lang {
            Some(Lang::Kk | Lang::Ru) => d.format("%d.%m.%Y").to_string(),
            _ => d.to_string(),
        };
        let report = words::word(lang, "report", self.report).unwrap_or(self.report);
        let mut title = format!("{report}: {} – {}", day(self.from), day(self.to));
        if let Some((from, to)) = self.previous {
            let with = words::word(lang, "compare", "with").unwrap_or("compared with");
            // "(салыстыру кезеңі: …)", "(период сравнения: …)", but "(compared with …)".
            let colon = if lang == Lang::En { "" } else { ":" };
            title.push_str(&format!(" ({with}{colon} {} – {})", day(from), day(to)));
        }
        title
    }
}

/// A report in the format asked for, files named after the report and its period.
fn answer(
    state: &AppState,
    format: Format,
    report: &impl serde::Serialize,
    spec: FileSpec,
    csv: impl FnOnce(&Wording) -> export::Table,
    sheets: impl FnOnce(&Wording) -> Vec<export::Table>,
) -> Result<HttpResponse, ApiError> {
    let name = format!("adal-{}-{}-{}", spec.report, spec.from, spec.to);
    let wording = Wording { lang: spec.lang, names: &spec.names };
    let render = Render { lang: spec.lang, tz: state.config.timezone, title: spec.title() };
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(report)),
        Format::Csv => Ok(export::file(CSV_TYPE, &format!("{name}.csv"), export::csv_bytes(&csv(&wording), &render)?)),
        Format::Xlsx => {
            Ok(export::file(XLSX_TYPE, &format!("{name}.xlsx"), export::xlsx_bytes(&sheets(&wording), &render)?))
        }
    }
}

/// `lang=` as asked: a language, `auto` for the best of `Accept-Language`, or none (the files
/// machines read); 422 naming it, with the allowed values, when it is none of them.
fn language(req: &HttpRequest, asked: Option<&str>) -> Result<Option<Lang>, ApiError> {
    let Some(value) = asked else { return Ok(None) };
    match LangParam::parse(value) {
        Some(LangParam::Kk) => Ok(Some(Lang::Kk)),
        Some(LangParam::Ru) => Ok(Some(Lang::Ru)),
        Some(LangParam::En) => Ok(Some(Lang::En)),
        Some(LangParam::Auto) => {
            let header = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
            Ok(Some(Lang::from_accept_language(header)))
        }
        None => Err(ApiError::field(
            "lang",
            "enum",
            format!("must be one of: {}", LangParam::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ")),
        )),
    }
}

/// Every rule the parameters break in one 422; a parameter that does not parse at all (400)
/// is answered first.
fn together<A, B, C>(
    a: Result<A, ApiError>,
    b: Result<B, ApiError>,
    c: Result<C, ApiError>,
) -> Result<(A, B, C), ApiError> {
    match (a, b, c) {
        (Ok(a), Ok(b), Ok(c)) => Ok((a, b, c)),
        (a, b, c) => {
            let mut fields = Vec::new();
            for e in [a.err(), b.err(), c.err()].into_iter().flatten() {
                match e {
                    ApiError::Validation(v) => fields.extend(v),
                    other => return Err(other),
                }
            }
            Err(ApiError::Validation(fields))
        }
    }
}

/// The departments' names, read only for a file in a language (the others name no one).
fn names_for(
    conn: &mut crate::store::DbConnection,
    format: Format,
    lang: Option<Lang>,
) -> Result<HashMap<String, DepartmentName>, ApiError> {
    if format == Format::Json || lang.is_none() {
        return Ok(HashMap::new());
    }
    Ok(compute::department_names(conn)?)
}

fn today(state: &AppState) -> NaiveDate {
    Utc::now().with_timezone(&state.config.timezone).date_naive()
}

fn year_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), 1, 1).expect("1 January")
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First local day, inclusive (default: 1 January of the current year); an instant counts as
    /// its local date.
    pub from: Option<String>,
    /// Last local day, inclusive (default: today).
    pub to: Option<String>,
    /// Only events this department, or any department below it, leads or partners in (404 outside
    /// the caller's reach). In `departments`: the rows of its subtree.
    pub department_id: Option<uuid::Uuid>,
    /// With `department_id`: `false` for that department alone, not its subtree (default `true`).
    pub include_descendants: Option<bool>,
    /// `departments` only: one row per child of this department, each rolling up its subtree
    /// (`unique_people` counted across the subtree). 404 outside the caller's reach.
    pub parent_id: Option<uuid::Uuid>,
    /// `departments` only, without `parent_id`: one row per top of the caller's reach (the
    /// department at its root; every root for who reads everything), each rolling up its subtree —
    /// the total a drill-down starts from.
    pub top: Option<bool>,
    /// `json` (default), `csv` or `xlsx`.
    #[param(inline)]
    pub format: Option<Format>,
    /// Compare with `previous_year` (the same dates one year earlier; 29 February maps to
    /// 28 February) or `previous_period` (the same number of days just before `from`). Any other
    /// value is 422.
    #[param(value_type = Option<Compare>, inline)]
    pub compare: Option<String>,
    /// CSV and XLSX for people: headers, sections and values in `kk`, `ru` or `en` (`auto`: from
    /// `Accept-Language`), departments by name and code, instants in the registry's time zone.
    /// Without it the files say keys, codes and ids, as machines read them. JSON keeps codes and
    /// ids whatever it says; any other value is 422.
    #[param(value_type = Option<LangParam>, inline)]
    pub lang: Option<String>,
}

/// `compare=` as asked: 422 naming it, with the allowed values, when it is none of them.
fn compare(asked: Option<&str>) -> Result<Option<Compare>, ApiError> {
    asked
        .map(|v| {
            Compare::parse(v).ok_or_else(|| {
                let allowed: Vec<&str> = Compare::ALL.iter().map(|c| c.as_str()).collect();
                ApiError::field("compare", "enum", format!("must be one of: {}", allowed.join(", ")))
            })
        })
        .transpose()
}

/// Summary of a period
///
/// Held events and their participants, with planned and cancelled events counted beside them,
/// by department, kind, audience, month and basis. CSV is long-format
/// (`section,key,events_held,events_partnered,participants_total`); XLSX has a sheet per section.
/// With `compare`, `previous` is the same summary of the compared dates (its own `from` and `to`).
#[utoipa::path(
    tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, description = "The summary", content(
            (Summary = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        NeedsReportsRead, BadQuery, PeriodRefusals,
    ),
    security(("bearer" = ["reports:read"])),
)]
#[get("/summary")]
pub async fn summary(
    req: HttpRequest,
    state: Data<AppState>,
    principal: Principal,
    query: Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ReportsRead)?;
    let a = asked(&state, &req, query.into_inner())?;
    let (compare, lang, format) = (a.compare, a.lang, a.format);
    let (report, names) = replica::run(&state.store, state.replica.as_deref(), move |conn| {
        let focus = focus(conn, &principal, &a)?;
        Ok((compute::summary(conn, &a.period, focus, compare)?, names_for(conn, format, lang)?))
    })
    .await?;
    let previous = report.previous.as_ref().map(|p| (p.from, p.to));
    let spec = FileSpec { report: "summary", from: report.from, to: report.to, previous, lang, names };
    answer(&state, format, &report, spec, |w| report.long_table(w, compare), |w| report.sheets(w, compare))
}

/// What a `summary` or `departments` query asks for: its period, comparison and language, every
/// rule they break named in one 422, its department and the file format.
#[derive(Clone)]
struct Asked {
    now: NaiveDate,
    period: Period,
    compare: Option<Compare>,
    lang: Option<Lang>,
    focus: Focus,
    parent: Option<uuid::Uuid>,
    top: bool,
    format: Format,
}

/// The caller's reach as a report's focus, with the department asked for; 404 when that
/// department (or the parent of the rows) is outside the reach.
fn focus(conn: &mut crate::store::DbConnection, principal: &Principal, asked: &Asked) -> Result<Focus, ApiError> {
    for d in [asked.focus.department, asked.parent].into_iter().flatten() {
        principal.reach.require_any(conn, &[&d.to_string()])?;
    }
    let reach = principal
        .reach
        .root()
        .map(|r| r.parse::<uuid::Uuid>().map_err(|e| ApiError::internal(anyhow::anyhow!("a department id: {e}"))))
        .transpose()?;
    Ok(Focus { reach, ..asked.focus })
}

fn asked(state: &AppState, req: &HttpRequest, q: ReportQuery) -> Result<Asked, ApiError> {
    let now = today(state);
    let (period, compare, lang) = together(
        period(state, q.from.as_deref(), q.to.as_deref(), (year_start(now), now)),
        compare(q.compare.as_deref()),
        language(req, q.lang.as_deref()),
    )?;
    let focus = Focus { department: q.department_id, descendants: q.include_descendants.unwrap_or(true), reach: None };
    let top = q.top.unwrap_or(false);
    Ok(Asked { now, period, compare, lang, focus, parent: q.parent_id, top, format: negotiate(req, q.format) })
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FulfilmentQuery {
    /// The plan.
    pub plan_id: String,
    /// First local day, inclusive (default: 1 January of the plan's year).
    pub from: Option<String>,
    /// Last local day, inclusive (default: 31 December of the plan's year).
    pub to: Option<String>,
    /// Only items this department is responsible for.
    pub department_id: Option<uuid::Uuid>,
    #[param(inline)]
    pub format: Option<Format>,
    /// CSV and XLSX for people: headers, values and statuses in `kk`, `ru` or `en` (`auto`: from
    /// `Accept-Language`), departments by name and code. Without it, keys, codes and ids; any other
    /// value is 422.
    #[param(value_type = Option<LangParam>, inline)]
    pub lang: Option<String>,
}

/// Plan fulfilment
///
/// Each item of the plan with the held events linked to it in the period, their participants
/// (seats filled, not unique people) against its targets, and its status. It has no comparison:
/// an item's targets are for its plan's year, so `compare` is not among its parameters and is
/// ignored, as any parameter not listed is.
#[utoipa::path(
    tag = "reports",
    params(FulfilmentQuery),
    responses(
        (status = 200, description = "The plan's fulfilment", content(
            (PlanFulfilment = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "A parameter does not parse or plan_id is missing", body = Problem, content_type = PROBLEM),
        (status = 422, description = "from is after to, or the period is longer than 10 years", body = Problem, content_type = PROBLEM),
        NeedsReportsRead, NoSuchPlan,
    ),
    security(("bearer" = ["reports:read"])),
)]
#[get("/plan-fulfilment")]
pub async fn plan_fulfilment(
    req: HttpRequest,
    state: Data<AppState>,
    principal: Principal,
    query: Query<FulfilmentQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ReportsRead)?;
    let q = query.into_inner();
    let dept = q.department_id;
    let format = negotiate(&req, q.format);
    let lang = language(&req, q.lang.as_deref())?;
    let now = today(&state);
    let st = state.clone();
    let (report, names) = replica::run(&state.store, state.replica.as_deref(), move |conn| {
        let plan = crate::plans::domain::visible_plan(conn, &principal.reach, &q.plan_id)?;
        if let Some(d) = dept {
            principal.reach.require_any(conn, &[&d.to_string()])?;
        }
        let year = |m, d| {
            NaiveDate::from_ymd_opt(plan.year, m, d)
                .ok_or_else(|| ApiError::bad_request("the plan's year is out of range"))
        };
        let period = period(&st, q.from.as_deref(), q.to.as_deref(), (year(1, 1)?, year(12, 31)?))?;
        let reach = principal.reach.root();
        Ok((compute::plan_fulfilment(conn, &plan.id, &period, dept, reach, now)?, names_for(conn, format, lang)?))
    })
    .await?;
    let spec = FileSpec { report: "plan-fulfilment", from: report.from, to: report.to, previous: None, lang, names };
    answer(&state, format, &report, spec, |w| report.items_table(w), |w| report.sheets(w))
}

/// Departments' activity
///
/// One row per active department within the caller's reach, idle ones included: the events it led
/// and partnered in, their participants and unique people, its plan items due in the period and
/// how many are done or overdue, and when it last held an event — the view that shows which
/// departments are not doing the work. Each row says where it sits (`parent_id`, `level`, `path`).
/// With `parent_id`, one row per child of that department, each rolling up its subtree — the
/// drill-down from region to city to department; without it each row counts its department
/// alone, so the rows add up to the total. With
/// `compare`, `previous` names the compared dates and each item's `previous` holds its held,
/// partnered and participant figures over them.
#[utoipa::path(
    tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, description = "A row per active department", content(
            (DepartmentsReport = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        NeedsReportsRead, BadQuery, PeriodRefusals,
    ),
    security(("bearer" = ["reports:read"])),
)]
#[get("/departments")]
pub async fn departments(
    req: HttpRequest,
    state: Data<AppState>,
    principal: Principal,
    query: Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::ReportsRead)?;
    let a = asked(&state, &req, query.into_inner())?;
    let (now, compare, lang, format) = (a.now, a.compare, a.lang, a.format);
    let (report, names) = replica::run(&state.store, state.replica.as_deref(), move |conn| {
        let rows = compute::Rows { parent: a.parent, tops: a.top, focus: focus(conn, &principal, &a)? };
        Ok((compute::departments(conn, &a.period, rows, compare, now)?, names_for(conn, format, lang)?))
    })
    .await?;
    let previous = report.previous.as_ref().map(|p| (p.from, p.to));
    let spec = FileSpec { report: "departments", from: report.from, to: report.to, previous, lang, names };
    answer(&state, format, &report, spec, |w| report.table(w), |w| vec![report.table(w)])
}
