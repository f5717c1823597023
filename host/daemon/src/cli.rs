//! Operator commands: ask the running daemon over its socket and print
//! tables (or JSON with `--json`).

use berth_proto::admin::{
    AdminRequest, AdminResponse, AllocationView, Explanation, PoolView, RefusalView,
};
use std::path::Path;

pub fn ask(socket: &Path, request: AdminRequest) -> anyhow::Result<AdminResponse> {
    Ok(berth_proto::client::admin(socket, request)?)
}

/// Every allocation, asked page by page, as one answer.
pub fn all_allocations(socket: &Path) -> anyhow::Result<AdminResponse> {
    Ok(AdminResponse::Allocations {
        allocations: berth_proto::client::all_allocations(socket)?,
        next: None,
    })
}

pub fn print(answer: &AdminResponse, json: bool) -> anyhow::Result<()> {
    // A fixture is JSON with or without the flag, and only the fixture:
    // it is meant for a file `berth-policy test` reads.
    if let AdminResponse::Request { fixture, .. } = answer {
        println!("{}", serde_json::to_string_pretty(fixture)?);
        return Ok(());
    }
    if json {
        println!("{}", serde_json::to_string_pretty(answer)?);
        return Ok(());
    }
    match answer {
        AdminResponse::Pools { pools } => print_pools(pools),
        AdminResponse::Allocations { allocations, .. } => print_allocations(allocations),
        AdminResponse::Released { count } => println!("released {count} address(es)"),
        AdminResponse::Explained { explanations } => print_explanations(explanations),
        AdminResponse::Request { .. } => {}
        AdminResponse::Refusals { refusals } => print_refusals(refusals),
        AdminResponse::Reloaded {
            policies,
            pools,
            needs_restart,
        } => {
            println!(
                "reloaded: {pools} pool(s); policy chain: {}",
                policies.join(" -> ")
            );
            if !needs_restart.is_empty() {
                println!(
                    "not applied until berthd restarts (read only at start): {}",
                    needs_restart.join(", ")
                );
            }
        }
    }
    Ok(())
}

fn print_pools(pools: &[PoolView]) {
    println!(
        "{:<24} {:<6} {:<28} {:>10} {:>20} {:>10} {:<8} {:>9}",
        "NAME", "FAMILY", "SUBNET", "ALLOCATED", "TOTAL", "RESERVED", "DEFAULT", "ORPHANED"
    );
    for p in pools {
        let name = if p.orphaned {
            format!("{} (removed)", p.name)
        } else if p.disabled {
            format!("{} (disabled)", p.name)
        } else {
            p.name.clone()
        };
        println!(
            "{:<24} {:<6} {:<28} {:>10} {:>20} {:>10} {:<8} {:>9}",
            name, p.family, p.subnet, p.used, p.total, p.reserved, p.default, p.orphaned_addresses
        );
    }
}

fn print_allocations(allocations: &[AllocationView]) {
    println!(
        "{:<16} {:<26} {:<18} {:<28} {:<14} {:<30} RETENTION",
        "POOL", "ADDRESS", "STATE", "POD", "CONTAINER", "IDENTITY"
    );
    for a in allocations {
        let container = a.container_id.as_deref().map(short).unwrap_or("-");
        let mut retention = a.retention.clone().unwrap_or_else(|| "-".into());
        if let Some(at) = a.expires_at_unix_secs {
            retention.push_str(&format!(" (expires at {at})"));
        }
        // Held outside its pool's ranges (or of a removed pool): kept
        // for its holder, never handed out again once released.
        let state = if a.orphaned {
            format!("{} (orphaned)", a.state)
        } else {
            a.state.clone()
        };
        println!(
            "{:<16} {:<26} {:<18} {:<28} {:<14} {:<30} {}",
            a.pool,
            a.address,
            state,
            a.pod,
            container,
            a.identity.as_deref().unwrap_or("-"),
            retention
        );
    }
}

fn print_explanations(explanations: &[Explanation]) {
    if explanations.is_empty() {
        println!("no allocation matches");
    }
    for e in explanations {
        println!("{} (pool {}) for {}", e.address, e.pool, e.pod);
        println!(
            "  identity: {}",
            e.identity.as_deref().unwrap_or("none (stateless)")
        );
        println!(
            "  placed-by: {}",
            e.placed_by
                .as_deref()
                .unwrap_or("the allocator (every policy abstained)")
        );
        for (i, step) in e.steps.iter().enumerate() {
            println!("  {}. {step}", i + 1);
        }
    }
}

fn print_refusals(refusals: &[RefusalView]) {
    if refusals.is_empty() {
        println!("no ADD refused since berthd started");
    }
    for r in refusals {
        println!(
            "at {} {} (container {}, {} on {}): {:?}",
            r.at_unix_secs,
            r.pod,
            short(&r.container_id),
            r.ifname,
            r.network,
            r.kind
        );
        println!(
            "  refused by: {}",
            r.policy
                .as_deref()
                .unwrap_or("the allocator (no policy refused)")
        );
        println!("  reason: {}", r.reason);
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
