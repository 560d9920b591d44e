//! Client requests: subscribe, send, create, claim, receipts, typing,
//! availability, ping and re-authentication.

use std::time::Instant;

use futures_util::stream::StreamExt;
use neurochat_core::Error;
use neurochat_core::domain::{Availability, TicketId};
use neurochat_core::events::Topic;
use neurochat_core::service::chat::PostMessage;
use neurochat_core::service::tickets::NewTicket;
use neurochat_protocol::v1::{ClientFrame, ErrorCode, ServerFrame, close_codes};

use super::{End, Session, Source};

impl Session {
    pub(super) async fn on_request(&mut self, frame: ClientFrame) -> Option<End> {
        let desk = self.gw.desk.clone();
        let p = self.principal.clone();
        let ack = |req: u64| ServerFrame::Ack {
            req,
            message_id: None,
            seq: None,
            ticket_id: None,
        };
        match frame {
            ClientFrame::Auth { token } => return self.reauthenticate(token).await,
            ClientFrame::Ping { nonce } => {
                return self.send(&ServerFrame::Pong {
                    nonce,
                    server_time: desk.now(),
                });
            }
            ClientFrame::Subscribe {
                req,
                ticket_id,
                last_seq,
            } => {
                let last = i64::try_from(last_seq).unwrap_or(i64::MAX);
                return match self.follow(TicketId(ticket_id), last).await {
                    Ok(None) => self.send(&ack(req)),
                    Ok(Some(end)) => Some(end),
                    Err(e) => self.reply(req, e),
                };
            }
            ClientFrame::Unsubscribe { req, ticket_id } => {
                self.followed.remove(&TicketId(ticket_id));
                return self.send(&ack(req));
            }
            ClientFrame::SubscribeInbox { req } => {
                if self.inbox {
                    return self.send(&ack(req));
                }
                let inbox = desk.subscribe(&p, Topic::Inbox).await;
                let presence = desk.subscribe(&p, Topic::Presence).await;
                return match (inbox, presence) {
                    (Ok(i), Ok(pr)) => {
                        self.inbox = true;
                        let now = desk.now();
                        self.rarely().inbox_mark = Some(now);
                        self.live.push(i.map(|d| (Source::Inbox, d)).boxed());
                        self.live.push(pr.map(|d| (Source::Presence, d)).boxed());
                        self.send(&ack(req))
                    }
                    (Err(e), _) | (_, Err(e)) => self.reply(req, e),
                };
            }
            send @ ClientFrame::Send { .. } => return self.on_sends(vec![send]).await,
            create @ ClientFrame::CreateTicket { .. } => {
                return self.on_creates(vec![create]).await;
            }
            ClientFrame::Claim { req, ticket_id } => {
                return match desk.claim_ticket(&p, TicketId(ticket_id), &self.ctx).await {
                    Ok(t) => self.send(&ServerFrame::Ack {
                        req,
                        message_id: None,
                        seq: None,
                        ticket_id: Some(t.id.as_uuid()),
                    }),
                    Err(e) => self.reply(req, e),
                };
            }
            ClientFrame::SetAvailability { req, availability } => {
                let a: Availability = availability.into();
                return match desk
                    .set_agent_settings(&p, p.user_id(), Some(a), None)
                    .await
                {
                    Ok(_) => self.send(&ack(req)),
                    Err(e) => self.reply(req, e),
                };
            }
            ClientFrame::TypingStart { ticket_id } => {
                let t = TicketId(ticket_id);
                let now = Instant::now();
                let interval = self.gw.config.typing_interval;
                let most = self.gw.config.max_subscriptions;
                let typing_sent = &mut self.rarely().typing_sent;
                let throttled = typing_sent
                    .get(&t)
                    .is_some_and(|at| now.duration_since(*at) < interval);
                if throttled {
                    return None;
                }
                if typing_sent.len() > most {
                    typing_sent.clear();
                }
                typing_sent.insert(t, now);
                if let Err(e) = desk.set_typing(&p, t, true).await {
                    return self.reply_error(None, e.to_body(), false);
                }
            }
            ClientFrame::TypingStop { ticket_id } => {
                if let Some(rarely) = &mut self.rarely {
                    rarely.typing_sent.remove(&TicketId(ticket_id));
                }
                if let Err(e) = desk.set_typing(&p, TicketId(ticket_id), false).await {
                    return self.reply_error(None, e.to_body(), false);
                }
            }
            ClientFrame::MarkDelivered { ticket_id, seq } => {
                let seq = i64::try_from(seq).unwrap_or(i64::MAX);
                if let Err(e) = desk
                    .mark_receipt(&p, TicketId(ticket_id), Some(seq), None)
                    .await
                {
                    return self.reply_error(None, e.to_body(), false);
                }
            }
            ClientFrame::MarkRead { ticket_id, seq } => {
                let seq = i64::try_from(seq).unwrap_or(i64::MAX);
                if let Err(e) = desk
                    .mark_receipt(&p, TicketId(ticket_id), None, Some(seq))
                    .await
                {
                    return self.reply_error(None, e.to_body(), false);
                }
            }
        }
        None
    }

    /// Stores `send` frames (nothing else) together and acknowledges each,
    /// in order.
    pub(super) async fn on_sends(&mut self, sends: Vec<ClientFrame>) -> Option<End> {
        let mut reqs = Vec::with_capacity(sends.len());
        let mut inputs = Vec::with_capacity(sends.len());
        for frame in sends {
            if let ClientFrame::Send {
                req,
                ticket_id,
                client_msg_id,
                body,
                internal,
            } = frame
            {
                reqs.push((req, ticket_id));
                inputs.push(PostMessage {
                    ticket_id: TicketId(ticket_id),
                    body,
                    client_msg_id,
                    internal,
                });
            }
        }
        let desk = self.gw.desk.clone();
        let outcomes = desk.post_messages(&self.principal, inputs).await;
        for ((req, ticket_id), outcome) in reqs.into_iter().zip(outcomes) {
            let end = match outcome {
                Ok(posted) => self.send(&ServerFrame::Ack {
                    req,
                    message_id: Some(posted.message.id.as_uuid()),
                    seq: u64::try_from(posted.message.seq).ok(),
                    ticket_id: Some(ticket_id),
                }),
                Err(e) => self.reply(req, e),
            };
            if end.is_some() {
                return end;
            }
        }
        None
    }

    /// Opens tickets (`create_ticket` frames, nothing else) concurrently —
    /// so they share a group commit — and acknowledges each, in order.
    pub(super) async fn on_creates(&mut self, creates: Vec<ClientFrame>) -> Option<End> {
        let desk = self.gw.desk.clone();
        let p = self.principal.clone();
        let ctx = &self.ctx;
        let mut reqs = Vec::with_capacity(creates.len());
        let mut opens = Vec::with_capacity(creates.len());
        for frame in creates {
            if let ClientFrame::CreateTicket {
                req,
                subject,
                body,
                client_msg_id,
                category_id,
            } = frame
            {
                reqs.push(req);
                let input = NewTicket {
                    subject,
                    body,
                    client_msg_id,
                    category_id: category_id.map(Into::into),
                    priority: None,
                };
                let (desk, p) = (&desk, &p);
                opens.push(async move { desk.create_ticket(p, input, ctx).await });
            }
        }
        let outcomes = futures_util::future::join_all(opens).await;
        for (req, outcome) in reqs.into_iter().zip(outcomes) {
            let end = match outcome {
                Ok((ticket, message)) => self.send(&ServerFrame::Ack {
                    req,
                    message_id: Some(message.id.as_uuid()),
                    seq: u64::try_from(message.seq).ok(),
                    ticket_id: Some(ticket.id.as_uuid()),
                }),
                Err(e) => self.reply(req, e),
            };
            if end.is_some() {
                return end;
            }
        }
        None
    }

    /// Replies to request `req` with a service error; internal causes are
    /// logged here and never leave the process.
    pub(super) fn reply(&mut self, req: u64, e: Error) -> Option<End> {
        if e.is_internal() {
            tracing::error!(error = %e, "request failed");
        }
        let violation = matches!(
            e.code(),
            ErrorCode::Forbidden | ErrorCode::NotFound | ErrorCode::ValidationFailed
        );
        self.reply_error(Some(req), e.to_body(), violation)
    }

    pub(super) async fn reauthenticate(&mut self, token: String) -> Option<End> {
        match self.gw.desk.authenticate_bearer(&token).await {
            Ok(p) if p.user_id() == self.principal.user_id() => {
                self.expires_at = self
                    .gw
                    .desk
                    .verify_access_token(&token)
                    .ok()
                    .map(|c| c.expires_at);
                self.reauth_sent = false;
                self.principal = p;
                self.token = token;
                None
            }
            Ok(_) => Some(End::Close(close_codes::AUTH_FAILED, "auth_failed")),
            Err(e) => {
                let _ = self.out.push(&ServerFrame::error(None, e.to_body()));
                Some(End::Close(close_codes::AUTH_FAILED, "auth_failed"))
            }
        }
    }
}
