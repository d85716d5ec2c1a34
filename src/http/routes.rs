//! The route table, taken from the OpenAPI document, that tells an unknown path (404) from a
//! known path asked with a method it does not allow (405 with `Allow`).

use actix_web::dev::ResourceDef;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use utoipa::openapi::OpenApi;

use crate::error::ApiError;

pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<String>)>,
}

impl RouteTable {
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut methods: Vec<String> = Vec::new();
                let ops = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ];
                for (m, present) in ops {
                    if present {
                        methods.push(m.to_string());
                    }
                }
                if item.get.is_some() {
                    methods.push("HEAD".into());
                }
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// The methods a path allows, if the API has it at all.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        self.routes.iter().find(|(def, _)| def.is_match(path)).map(|(_, m)| m.clone())
    }
}

/// What the application answers when no route matched.
pub async fn fallback(req: HttpRequest, table: Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    match table.allowed(req.path()) {
        Some(methods) if !methods.iter().any(|m| m == req.method().as_str()) => {
            Err(ApiError::MethodNotAllowed(methods))
        }
        _ => Err(ApiError::NotFound),
    }
}
