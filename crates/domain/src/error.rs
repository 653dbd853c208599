//! The domain's error type: what went wrong in terms of the business, never of HTTP.

/// Why a domain operation refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// One or more fields hold values the domain does not accept.
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// The caller is authenticated but lacks the right to do this.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
}

/// One invalid field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as the client sent it, dotted for nested fields (`metric.target`).
    pub field: String,
    /// What the field must be, in words a client developer understands.
    pub message: String,
}

/// Shorthand for results of domain operations.
pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    /// A single invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// The invalid fields, when this is a validation error.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Invalid(errors) => errors,
            Self::Forbidden(_) => &[],
        }
    }
}

fn describe(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    format!("invalid input: {}", parts.join("; "))
}

/// Collects field errors so a client learns about every bad field at once, not one per request.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Starts with no errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value of `result`, or records its errors and yields `None`.
    pub fn check<T>(&mut self, result: DomainResult<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(DomainError::Invalid(mut errors)) => {
                self.errors.append(&mut errors);
                None
            }
            Err(DomainError::Forbidden(reason)) => {
                self.errors.push(FieldError {
                    field: String::new(),
                    message: reason.to_owned(),
                });
                None
            }
        }
    }

    /// Records an error found outside a `parse` call.
    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// `Ok(())` when nothing was recorded, else every recorded error.
    pub fn finish(self) -> DomainResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.errors))
        }
    }

    /// Turns the values checked so far into `T` when every check passed.
    pub fn build<T>(self, make: impl FnOnce() -> Option<T>) -> DomainResult<T> {
        self.finish()?;
        make().ok_or_else(|| DomainError::invalid("", "invalid input"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_reports_every_failed_field() {
        let mut v = Validator::new();
        v.check::<()>(Err(DomainError::invalid("name", "required")));
        v.fail("email", "not an email address");
        let err = v.finish().unwrap_err();
        assert_eq!(err.field_errors().len(), 2);
        assert_eq!(err.field_errors()[1].field, "email");
    }

    #[test]
    fn validator_with_no_errors_finishes_ok() {
        assert!(Validator::new().finish().is_ok());
    }
}
