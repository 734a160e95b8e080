//! How an agent authenticates: a bearer token, and, for the built-in data
//! plane acting for every account, the account it acts for.

use tonic::{
    metadata::{Ascii, MetadataValue},
    service::Interceptor,
    Request, Status,
};

use cutover_proto::ACCOUNT_HEADER;

/// Credentials added to every call an agent makes.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    authorization: Option<MetadataValue<Ascii>>,
    account: Option<MetadataValue<Ascii>>,
}

impl Credentials {
    /// No credentials (authentication off).
    pub fn none() -> Self {
        Credentials::default()
    }

    /// A bearer token, and the account a data-plane token acts for.
    pub fn bearer(token: &str, account: Option<&str>) -> Result<Self, String> {
        let authorization = format!("Bearer {token}")
            .parse()
            .map_err(|_| "the token must be printable ASCII".to_owned())?;
        let account = account
            .map(|account| {
                account
                    .parse()
                    .map_err(|_| "the account must be printable ASCII".to_owned())
            })
            .transpose()?;
        Ok(Credentials {
            authorization: Some(authorization),
            account,
        })
    }
}

impl Interceptor for Credentials {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        if let Some(value) = &self.account {
            request.metadata_mut().insert(ACCOUNT_HEADER, value.clone());
        }
        Ok(request)
    }
}
