//! What unknown routes answer: 405 with `Allow` when the path exists for other methods, else 404.
//! The known paths come from the OpenAPI document, which is built from the served route table, so
//! the two cannot disagree.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{HttpRequest, web};

use crate::error::ApiError;

/// The served paths and their methods.
pub struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    /// Reads the paths of `api`.
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut methods = Vec::new();
                for (method, op) in [
                    (Method::GET, &item.get),
                    (Method::POST, &item.post),
                    (Method::PUT, &item.put),
                    (Method::PATCH, &item.patch),
                    (Method::DELETE, &item.delete),
                ] {
                    if op.is_some() {
                        methods.push(method);
                    }
                }
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self(routes)
    }

    fn methods_for(&self, path: &str) -> Option<&[Method]> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
}

/// The default service.
pub async fn not_found_or_method_not_allowed(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    match table.methods_for(req.path()) {
        Some(methods) if !methods.contains(req.method()) => Err(ApiError::MethodNotAllowed {
            method: req.method().clone(),
            allowed: methods.to_vec(),
        }),
        _ => Err(ApiError::not_found(format!("no route for {}", req.path()))),
    }
}
