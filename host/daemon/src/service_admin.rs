//! The operator side of the [`Service`]: config reloads and the admin
//! requests of `berthd` and `kubectl berth` (pools, allocations, explain,
//! release), over the same commit path as the CNI verbs.

use crate::config::DaemonConfig;
use crate::metrics::ReleaseKind;
use crate::service::{fail, now_unix_secs, pools_of, removed, Failure, Service};
use crate::views;
use crate::wire_error::WireKind;
use berth_proto::admin::{AdminRequest, AdminResponse};
use berth_proto::ErrorKind;
use std::net::IpAddr;

impl Service {
    /// Re-reads the config: pools and chain are both validated and loaded
    /// before either replaces the running one, so a bad file changes nothing.
    pub fn reload(&self) -> Result<AdminResponse, Failure> {
        let result = self.try_reload();
        self.metrics.reloaded(result.is_ok());
        result
    }

    pub(crate) fn try_reload(&self) -> Result<AdminResponse, Failure> {
        let invalid = |e: String| {
            fail(
                ErrorKind::InvalidConfig,
                format!("reload refused, config unchanged: {e}"),
            )
        };
        let config = DaemonConfig::load(&self.config.path).map_err(|e| invalid(e.to_string()))?;
        if let Some(why) =
            crate::policy_limits::reload_change(self.runtime.limits(), &config.limits)
        {
            return Err(invalid(why));
        }
        // In Kubernetes mode pools come from BerthPools, not this file.
        let pools = match self.directory {
            None => Some((
                pools_of(&config).map_err(|e| invalid(e.to_string()))?,
                config.reserved_set().map_err(|e| invalid(e.to_string()))?,
            )),
            Some(_) => None,
        };
        crate::precompile::in_child(&self.runtime, &config, &self.config.path);
        let chain = self
            .runtime
            .load_chain(&config.policies)
            .map_err(|e| invalid(e.to_string()))?;
        let names: Vec<String> = chain
            .policies()
            .iter()
            .map(|p| p.name().to_owned())
            .collect();
        let mut allocator = self.lock()?;
        let pool_count = pools
            .as_ref()
            .map_or(allocator.pools().len(), |p| p.0.len());
        let orphaned = match pools {
            Some((pools, reserved)) => allocator
                .reconfigure(pools, reserved)
                .map_err(|e| invalid(e.to_string()))?,
            None => Vec::new(),
        };
        self.decisions.chain_in_force(&chain, now_unix_secs());
        self.chain.swap(chain);
        drop(allocator);
        if !orphaned.is_empty() {
            tracing::warn!(
                ?orphaned,
                "pools removed from the config still hold addresses"
            );
        }
        let needs_restart = self
            .config
            .start_only
            .changed(&crate::config::StartOnly::of(&config));
        if !needs_restart.is_empty() {
            tracing::warn!(
                ?needs_restart,
                "these settings changed but are read only at start; restart berthd to apply them"
            );
        }
        tracing::info!(policies = ?names, pools = pool_count, "config reloaded");
        Ok(AdminResponse::Reloaded {
            policies: names,
            pools: pool_count,
            needs_restart,
        })
    }

    pub(crate) fn admin(&self, request: AdminRequest) -> Result<AdminResponse, Failure> {
        match request {
            AdminRequest::ListPools => Ok(AdminResponse::Pools {
                pools: views::pools(&*self.lock()?),
            }),
            AdminRequest::ListAllocations { after } => {
                let after = match after {
                    None => None,
                    Some(text) => Some(text.parse::<IpAddr>().map_err(|_| {
                        fail(
                            ErrorKind::InvalidRequest,
                            format!("page start {text:?} is not an IP address"),
                        )
                    })?),
                };
                let (allocations, next) = views::allocations_page(&*self.lock()?, after);
                Ok(AdminResponse::Allocations { allocations, next })
            }
            AdminRequest::Explain { target } => Ok(AdminResponse::Explained {
                explanations: views::explain(&*self.lock()?, &self.decisions, &target),
            }),
            AdminRequest::ExplainRequest { address } => {
                let address = address.parse::<IpAddr>().map_err(|_| {
                    fail(
                        ErrorKind::InvalidRequest,
                        format!("{address:?} is not an IP address"),
                    )
                })?;
                let (fixture, pool) = self
                    .decisions
                    .fixture(&*self.lock()?, address)
                    .map_err(|why| fail(ErrorKind::InvalidRequest, why))?;
                Ok(AdminResponse::Request {
                    fixture,
                    pool,
                    address: address.to_string(),
                })
            }
            AdminRequest::ListRefusals => Ok(AdminResponse::Refusals {
                refusals: self.decisions.refusals(),
            }),
            AdminRequest::Release {
                identity,
                pool,
                address,
            } => self.operator_release(identity, pool, address),
            AdminRequest::Reload => self.reload(),
        }
    }

    pub(crate) fn operator_release(
        &self,
        identity: Option<String>,
        pool: Option<String>,
        address: Option<String>,
    ) -> Result<AdminResponse, Failure> {
        let mut allocator = self.lock()?;
        let mutations = match (identity, pool, address) {
            (Some(key), None, None) => allocator.plan_retire_identity(&key, now_unix_secs()),
            (None, Some(pool), Some(address)) => {
                let address: IpAddr = address.parse().map_err(|_| {
                    fail(
                        ErrorKind::InvalidRequest,
                        format!("{address:?} is not an IP address"),
                    )
                })?;
                allocator
                    .plan_release(&pool, address)
                    .map_err(|e| fail(e.wire_kind(), e.to_string()))?
            }
            _ => {
                return Err(fail(
                    ErrorKind::InvalidRequest,
                    "release takes an identity, or a pool and an address",
                ))
            }
        };
        self.commit(&mut allocator, &mutations)?;
        let count = removed(&mutations);
        self.metrics.released(ReleaseKind::Operator, count);
        Ok(AdminResponse::Released { count })
    }
}
