//! The email channel: lettre's async SMTP transport (STARTTLS, implicit TLS or plain, optional
//! login) sending multipart/alternative text + HTML messages rendered by `render::email`.

use super::policy::Batch;
use super::{DeliveryError, Error, Notifier, render};
use crate::config::{EmailChannel, Filter, SmtpTls};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// One `[[alerts.email]]` channel.
pub struct EmailNotifier {
    name: String,
    filter: Filter,
    host: String,
    port: u16,
    from: Mailbox,
    to: Vec<Mailbox>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for EmailNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No credentials: the transport holds the password.
        f.debug_struct("EmailNotifier")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl EmailNotifier {
    /// Build the transport and parse the addresses (errors name the channel, never the password).
    pub fn new(c: &EmailChannel) -> Result<Self, Error> {
        let err = |message: String| Error::Channel {
            channel: c.name.clone(),
            message,
        };
        let from: Mailbox = c
            .from
            .parse()
            .map_err(|e| err(format!("from {:?}: {e}", c.from)))?;
        let to =
            c.to.iter()
                .map(|t| {
                    t.parse::<Mailbox>()
                        .map_err(|e| err(format!("to {t:?}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
        let builder = match c.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host)
                .map_err(|e| err(format!("TLS setup for {}: {e}", c.host)))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host)
                .map_err(|e| err(format!("TLS setup for {}: {e}", c.host)))?,
        };
        let mut builder = builder.port(c.port).timeout(Some(c.timeout));
        match (&c.username, &c.password) {
            (Some(user), Some(pass)) => {
                builder =
                    builder.credentials(Credentials::new(user.clone(), pass.expose().to_string()));
            }
            (Some(_), None) => return Err(err("username is set but no password_* is".into())),
            (None, Some(_)) => return Err(err("a password is set but no username".into())),
            (None, None) => {}
        }
        Ok(Self {
            name: c.name.clone(),
            filter: c.filter.clone(),
            host: c.host.clone(),
            port: c.port,
            from,
            to,
            transport: builder.build(),
        })
    }

    /// The message for a batch.
    pub fn message(&self, batch: &Batch) -> Result<Message, DeliveryError> {
        let e = render::email(batch);
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(e.subject);
        for t in &self.to {
            b = b.to(t.clone());
        }
        b.multipart(MultiPart::alternative_plain_html(e.text, e.html))
            .map_err(|e| DeliveryError::Rejected(format!("cannot build the message: {e}")))
    }
}

#[async_trait::async_trait]
impl Notifier for EmailNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn filter(&self) -> &Filter {
        &self.filter
    }

    async fn send(&self, batch: &Batch) -> Result<(), DeliveryError> {
        let msg = self.message(batch)?;
        match self.transport.send(msg).await {
            Ok(_) => Ok(()),
            // SMTP 5xx: the server refuses for good (bad recipient, authentication failed).
            Err(e) if e.is_permanent() => Err(DeliveryError::Rejected(format!(
                "{}:{}: {e}",
                self.host, self.port
            ))),
            Err(e) => Err(DeliveryError::Retryable(format!(
                "{}:{}: {e}",
                self.host, self.port
            ))),
        }
    }
}
