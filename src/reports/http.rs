//! Report routes (`reports:read`): summary, plan fulfilment and departments, each as JSON, CSV
//! (`?format=csv` or `Accept: text/csv`) or XLSX (`?format=xlsx`).

use crate::http::query::Query;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get};
use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::compute::{self, Compare, Period};
use super::export::{self, CSV_TYPE, XLSX_TYPE};
use super::model::{DepartmentsReport, PlanFulfilment, Summary};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::plans::store as plans;
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

/// A report in the format asked for, files named after the report and its period.
fn answer(
    format: Format,
    report_name: &str,
    report: &impl serde::Serialize,
    from: NaiveDate,
    to: NaiveDate,
    csv: impl FnOnce() -> export::Table,
    sheets: impl FnOnce() -> Vec<export::Table>,
) -> Result<HttpResponse, ApiError> {
    let name = format!("adal-{report_name}-{from}-{to}");
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(report)),
        Format::Csv => Ok(export::file(CSV_TYPE, &format!("{name}.csv"), export::csv_bytes(&csv())?)),
        Format::Xlsx => Ok(export::file(XLSX_TYPE, &format!("{name}.xlsx"), export::xlsx_bytes(&sheets())?)),
    }
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
    /// Only events this department leads or partners in.
    pub department_id: Option<uuid::Uuid>,
    /// `json` (default), `csv` or `xlsx`.
    #[param(inline)]
    pub format: Option<Format>,
    /// Compare with `previous_year` (the same dates one year earlier; 29 February maps to
    /// 28 February) or `previous_period` (the same number of days just before `from`). Any other
    /// value is 422.
    #[param(value_type = Option<Compare>, inline)]
    pub compare: Option<String>,
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
        (status = 400, description = "A parameter does not parse", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Needs reports:read", body = Problem, content_type = PROBLEM),
        (status = 422, description = "from is after to, the period is longer than 10 years, or compare is not one of its values", body = Problem, content_type = PROBLEM),
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
    let q = query.into_inner();
    let now = today(&state);
    let (period, compare) = asked(&state, &q, now)?;
    let dept = q.department_id;
    let format = negotiate(&req, q.format);
    let report = state.store.run(move |conn| compute::summary(conn, &period, dept, compare)).await?;
    answer(format, "summary", &report, report.from, report.to, || report.long_table(), || report.sheets())
}

/// A `summary` or `departments` query's period and comparison, every rule it breaks named in one
/// 422.
fn asked(state: &AppState, q: &ReportQuery, now: NaiveDate) -> Result<(Period, Option<Compare>), ApiError> {
    let period = period(state, q.from.as_deref(), q.to.as_deref(), (year_start(now), now));
    let compare = compare(q.compare.as_deref());
    match (period, compare) {
        (Ok(p), Ok(c)) => Ok((p, c)),
        (Err(ApiError::Validation(mut a)), Err(ApiError::Validation(b))) => {
            a.extend(b);
            Err(ApiError::Validation(a))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
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
        (status = 403, description = "Needs reports:read", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such plan", body = Problem, content_type = PROBLEM),
        (status = 422, description = "from is after to, or the period is longer than 10 years", body = Problem, content_type = PROBLEM),
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
    let now = today(&state);
    let st = state.clone();
    let report = state
        .store
        .run(move |conn| {
            let plan = plans::find_plan(conn, &q.plan_id)?.ok_or(ApiError::NotFound)?;
            let year = |m, d| {
                NaiveDate::from_ymd_opt(plan.year, m, d)
                    .ok_or_else(|| ApiError::bad_request("the plan's year is out of range"))
            };
            let period = period(&st, q.from.as_deref(), q.to.as_deref(), (year(1, 1)?, year(12, 31)?))?;
            compute::plan_fulfilment(conn, &plan.id, &period, dept, now)
        })
        .await?;
    answer(format, "plan-fulfilment", &report, report.from, report.to, || report.items_table(), || report.sheets())
}

/// Departments' activity
///
/// One row per active department, idle ones included: the events it led and partnered in, their
/// participants, its plan items due in the period and how many are done or overdue, and when it
/// last held an event — the view that shows which departments are not doing the work. With
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
        (status = 400, description = "A parameter does not parse", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Needs reports:read", body = Problem, content_type = PROBLEM),
        (status = 422, description = "from is after to, the period is longer than 10 years, or compare is not one of its values", body = Problem, content_type = PROBLEM),
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
    let q = query.into_inner();
    let now = today(&state);
    let (period, compare) = asked(&state, &q, now)?;
    let dept = q.department_id;
    let format = negotiate(&req, q.format);
    let report = state.store.run(move |conn| compute::departments(conn, &period, dept, compare, now)).await?;
    answer(format, "departments", &report, report.from, report.to, || report.table(), || vec![report.table()])
}
