//! A request body that stops arriving is answered 408 and its connection closed. actix's
//! `client_request_timeout` covers only the request head; without this a client trickling a byte
//! now and then (or none at all after the headers) holds a connection and a worker's attention
//! for as long as it likes. The payload stream is wrapped before any extractor sees it, so every
//! way of reading a body gets the same idle limit.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse, web};
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::error::Problem;
use crate::http::request_ctx;

/// The longest a request body may go without a byte (`ADAL_BODY_IDLE_TIMEOUT_MS`); app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyIdleTimeout(pub Duration);

/// The payload with a deadline that every chunk pushes back. The clock starts when a reader
/// first waits, so work a handler does before reading the body does not count against it.
struct IdleLimited<S> {
    inner: S,
    idle: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
    stalled: Rc<Cell<bool>>,
}

impl<S> Stream for IdleLimited<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some(deadline) = this.deadline.as_mut() {
                    deadline.as_mut().reset(Instant::now() + this.idle);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => {
                let idle = this.idle;
                let deadline = this.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.stalled.set(true);
                        Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the request body stalled",
                        )))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let idle = req.app_data::<BodyIdleTimeout>().map(|t| t.0);
    let stalled = Rc::new(Cell::new(false));
    if let Some(idle) = idle {
        let payload = req.take_payload();
        if matches!(payload, Payload::None) {
            req.set_payload(payload);
        } else {
            let limited = IdleLimited { inner: payload, idle, deadline: None, stalled: stalled.clone() };
            req.set_payload(Payload::Stream { payload: Box::pin(limited) });
        }
    }
    let res = next.call(req).await?;
    if !stalled.get() {
        return Ok(res.map_into_boxed_body());
    }
    // Whatever the reader made of the failed read (a 400 from a body parser), the client is told
    // it was too slow, and the connection is closed: the rest of the body will never be read.
    let seconds = idle.unwrap_or_default().as_secs_f64();
    tracing::info!(idle_seconds = seconds, "request body stalled");
    let (req, _) = res.into_parts();
    let problem = Problem {
        type_: "https://adal.example/problems/request-timeout".into(),
        title: "Request timeout".into(),
        status: StatusCode::REQUEST_TIMEOUT.as_u16(),
        detail: format!("no byte of the request body arrived for {seconds} s"),
        instance: req.path().to_string(),
        request_id: request_ctx::request_id(),
        errors: None,
    };
    let response = HttpResponse::build(StatusCode::REQUEST_TIMEOUT)
        .insert_header((header::CONTENT_TYPE, "application/problem+json"))
        .force_close()
        .body(web::Bytes::from(serde_json::to_vec(&problem).unwrap_or_default()));
    Ok(ServiceResponse::new(req, response))
}
