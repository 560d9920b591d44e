//! The plan the server writes after seeding: where to connect and as whom.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::Value;
use uuid::Uuid;

/// One customer/agent pair on the customer's ticket.
#[derive(Debug, Clone)]
pub struct Pair {
    pub customer: String,
    pub agent: String,
    pub ticket: Uuid,
    pub last_seq: u64,
}

/// One customer with a ticket of their own.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub token: String,
    pub ticket: Uuid,
    pub last_seq: u64,
}

/// Everything seeded.
#[derive(Debug, Clone)]
pub struct Plan {
    pub pid: u32,
    pub port: u16,
    pub pairs: Vec<Pair>,
    pub idle: Vec<Subscriber>,
    pub creators: Vec<String>,
    pub inbox_agents: Vec<String>,
}

impl Plan {
    pub fn load(path: &Path) -> Result<Plan> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let v: Value = serde_json::from_slice(&bytes).context("parsing the plan")?;
        let num = |v: &Value, k: &str| -> Result<u64> {
            v.get(k)
                .and_then(Value::as_u64)
                .with_context(|| format!("plan: `{k}` missing"))
        };
        let text = |v: &Value, k: &str| -> Result<String> {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .with_context(|| format!("plan: `{k}` missing"))
        };
        let list = |k: &str| -> Result<&Vec<Value>> {
            v.get(k)
                .and_then(Value::as_array)
                .with_context(|| format!("plan: `{k}` missing"))
        };
        let uuid = |v: &Value, k: &str| -> Result<Uuid> {
            Uuid::parse_str(&text(v, k)?).with_context(|| format!("plan: bad `{k}`"))
        };
        let pairs = list("pairs")?
            .iter()
            .map(|p| {
                Ok(Pair {
                    customer: text(p, "customer")?,
                    agent: text(p, "agent")?,
                    ticket: uuid(p, "ticket")?,
                    last_seq: num(p, "last_seq")?,
                })
            })
            .collect::<Result<_>>()?;
        let idle = list("idle")?
            .iter()
            .map(|p| {
                Ok(Subscriber {
                    token: text(p, "token")?,
                    ticket: uuid(p, "ticket")?,
                    last_seq: num(p, "last_seq")?,
                })
            })
            .collect::<Result<_>>()?;
        let strings = |k: &str| -> Result<Vec<String>> {
            list(k)?
                .iter()
                .map(|t| {
                    t.as_str()
                        .map(str::to_owned)
                        .with_context(|| format!("plan: bad `{k}` entry"))
                })
                .collect()
        };
        Ok(Plan {
            pid: u32::try_from(num(&v, "pid")?)?,
            port: u16::try_from(num(&v, "port")?)?,
            pairs,
            idle,
            creators: strings("creators")?,
            inbox_agents: strings("inbox_agents")?,
        })
    }
}
