//! Keeping a node's allocator up to date with what other nodes wrote.
//!
//! A store that follows changes itself (the Kubernetes store's watch feed,
//! `berth_kube::feed`) hands over only what changed since the last
//! refresh, and the allocator absorbs it: a refresh reads nothing from the
//! API server, whatever the cluster's size. Otherwise, or when the changes
//! contradict the allocator in a way only a full restore settles, every
//! record is read again and the allocator rebuilt.
//!
//! Every ADD takes the queued changes before it plans, so it plans on what
//! the watch has delivered, and most races are never run.

use crate::service::{fail, node_seed, Service};
use crate::wire_error::WireKind;
use berth_core::allocator::Allocator;
use berth_proto::{ErrorBody, ErrorKind};

/// What taking the store's changes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Taken {
    /// Absorbed (possibly none): the allocator is as fresh as the feed.
    Absorbed,
    /// The store does not follow changes (the embedded store).
    NotFollowed,
    /// They contradict the records: only a full reload settles it.
    Contradicted,
}

impl Service {
    /// Refreshes the allocator; the caller holds its lock.
    pub(crate) fn refresh_locked(&self, allocator: &mut Allocator) -> Result<(), ErrorBody> {
        if self.absorb_changes(allocator)? != Taken::Absorbed {
            self.reload_locked(allocator)?;
        }
        if allocator.superseded_count() > 0 {
            // A failed release keeps the records held; the next refresh
            // tries again, and the refresh itself succeeded.
            if let Err(error) = self.release_superseded(allocator) {
                tracing::warn!(message = %error.message, "releasing superseded records failed; retrying at the next refresh");
            }
        }
        Ok(())
    }

    /// Before an ADD plans: takes in what the feed has delivered (nothing
    /// for a store that does not follow changes). The caller holds the lock.
    pub(crate) fn catch_up(&self, allocator: &mut Allocator) -> Result<(), ErrorBody> {
        match self.absorb_changes(allocator)? {
            Taken::Absorbed | Taken::NotFollowed => Ok(()),
            Taken::Contradicted => self.refresh_locked(allocator),
        }
    }

    /// Takes in the store's queued changes.
    fn absorb_changes(&self, allocator: &mut Allocator) -> Result<Taken, ErrorBody> {
        let changes = match self.store.changes() {
            Ok(Some(changes)) => changes,
            Ok(None) => return Ok(Taken::NotFollowed),
            Err(e) => return Err(fail(e.wire_kind(), format!("store: {e}"))),
        };
        if changes.is_empty() {
            return Ok(Taken::Absorbed);
        }
        match allocator.absorb(changes) {
            Ok(absorbed) => {
                for s in &absorbed.superseded {
                    tracing::debug!(record = %s.record, node = %s.node, kept = %s.kept, "superseded record held until its node releases it");
                }
                tracing::debug!(
                    changed = absorbed.changed,
                    rebuilt = absorbed.rebuilt,
                    "absorbed changes of other nodes"
                );
                Ok(Taken::Absorbed)
            }
            Err(error) => {
                tracing::warn!(%error, "changes from the store contradict the records; reloading every record");
                Ok(Taken::Contradicted)
            }
        }
    }

    /// Rebuilds the allocator from every record of the store, keeping the
    /// pools and reservations in force (a rebuilt allocator without the
    /// reservations handed reserved addresses out until the next pool sync).
    fn reload_locked(&self, allocator: &mut Allocator) -> Result<(), ErrorBody> {
        let records = self
            .store
            .load()
            .map_err(|e| fail(e.wire_kind(), format!("store: {e}")))?;
        let mut fresh =
            Allocator::with_reserved(allocator.pools().to_vec(), allocator.reserved().clone())
                .map_err(|e| fail(ErrorKind::Internal, e.to_string()))?;
        let restored = fresh.restore(records).map_err(|e| {
            fail(
                ErrorKind::Internal,
                format!("records in the store are inconsistent: {e}"),
            )
        })?;
        for s in &restored.superseded {
            tracing::debug!(record = %s.record, node = %s.node, kept = %s.kept, "superseded record held until its node releases it");
        }
        fresh.spread_cursors(node_seed(&self.node));
        *allocator = fresh;
        // Only now does this node's view include what it just read.
        self.store.loaded();
        Ok(())
    }
}
