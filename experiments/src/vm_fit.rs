//! Which instance type a VM fleet uses, and how many requests one VM runs at once, given the
//! functions' memory.
//!
//! A VM runs one request per vCPU (a *slot*), and any function may run in any slot, so a
//! VM whose memory holds fewer executions of the largest function than it has vCPUs runs
//! only as many at once: `slots = min(vcpus, memory / largest function memory)` (the OS's
//! own memory is not counted). A type that holds none is an error naming both sizes.
//!
//! `[vm] instance_type = "cheapest"` picks, among the types priced in the chosen column
//! whose memory holds a full slot count of the largest function, the one with the lowest
//! price per vCPU (what a fleet of them costs per slot), then the lowest hourly price, then
//! the name. Burstable types (t2, t3, t4g: their vCPU count holds only while CPU credits
//! last, which the model does not throttle) are left out unless `[vm] allow_burstable =
//! true`; naming one as `instance_type` without it is an error.

use faasim_sim::vm::{InstanceTable, PriceColumn};

/// The `instance_type` that asks for the cheapest type that fits.
pub const CHEAPEST: &str = "cheapest";

/// An instance type that cannot serve the workload as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("vm.instance_type: {0}")]
pub struct FitError(pub String);

/// The type chosen and the slots of one VM.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The chosen type's `api_name`.
    pub api_name: String,
    /// Requests one VM runs at once.
    pub slots: u32,
    /// A table whose chosen type has `slots` as its vCPU count (what the fleet model runs).
    pub table: InstanceTable,
    /// Notes for the run's warnings (a burstable type, slots cut by memory).
    pub warnings: Vec<String>,
}

fn slots_of(vcpus: u32, memory_mib: u64, largest_mb: u32) -> u32 {
    if memory_mib == 0 || largest_mb == 0 {
        return vcpus; // memory unknown (a table without `memory_gib`), or nothing to fit
    }
    (memory_mib / largest_mb as u64).min(vcpus as u64) as u32
}

/// Resolves `asked` (an `api_name` or [`CHEAPEST`]) for functions of at most `largest_mb`.
pub fn fit(
    table: &InstanceTable,
    asked: &str,
    price: PriceColumn,
    largest_mb: u32,
    allow_burstable: bool,
) -> Result<Fit, FitError> {
    let mut warnings = Vec::new();
    let chosen = if asked == CHEAPEST {
        let per_vcpu = |t: &faasim_sim::vm::InstanceType| {
            t.price_per_hour(price)
                .map(|p| (p as u128 * 1_000_000) / t.vcpus as u128)
        };
        table
            .types
            .iter()
            .filter(|t| allow_burstable || !t.burstable)
            .filter(|t| t.price_per_hour(price).is_some())
            .filter(|t| slots_of(t.vcpus, t.memory_mib, largest_mb) == t.vcpus)
            .min_by(|a, b| {
                (per_vcpu(a), a.price_per_hour(price), &a.api_name).cmp(&(
                    per_vcpu(b),
                    b.price_per_hour(price),
                    &b.api_name,
                ))
            })
            .ok_or_else(|| {
                FitError(format!(
                    "no type of {} with a `{}` price{} holds one execution of the largest function ({largest_mb} MB) per vCPU",
                    table.source,
                    price.column(),
                    if allow_burstable { "" } else { " that is not burstable" }
                ))
            })?
    } else {
        let t = table.get(asked).ok_or_else(|| {
            FitError(format!(
                "unknown instance type `{asked}` in {} (known: {}; or \"{CHEAPEST}\")",
                table.source,
                table
                    .types
                    .iter()
                    .map(|t| t.api_name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if t.burstable && !allow_burstable {
            return Err(FitError(format!(
                "`{asked}` is burstable: its {} vCPUs hold only while CPU credits last, which the model does not throttle; set vm.allow_burstable = true to use it anyway",
                t.vcpus
            )));
        }
        t
    };
    let slots = slots_of(chosen.vcpus, chosen.memory_mib, largest_mb);
    if slots == 0 {
        return Err(FitError(format!(
            "`{}` has {} MiB of memory, less than the largest function's {largest_mb} MB: not one execution fits",
            chosen.api_name, chosen.memory_mib
        )));
    }
    if slots < chosen.vcpus {
        warnings.push(format!(
            "vm: `{}` has {} vCPUs but its {} MiB hold only {slots} executions of the largest function ({largest_mb} MB): each VM runs {slots} requests at once",
            chosen.api_name, chosen.vcpus, chosen.memory_mib
        ));
    }
    if chosen.burstable {
        warnings.push(format!(
            "vm: `{}` is burstable: its {} vCPUs hold only while CPU credits last, which the model does not throttle",
            chosen.api_name, chosen.vcpus
        ));
    }
    let mut table = table.clone();
    let api_name = chosen.api_name.clone();
    if let Some(t) = table.types.iter_mut().find(|t| t.api_name == api_name) {
        t.vcpus = slots;
    }
    Ok(Fit {
        api_name,
        slots,
        table,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance_table::{default_instance_table, parse_instance_table};

    #[test]
    fn the_cheapest_fit_is_not_the_smallest_burstable_type() {
        let t = default_instance_table();
        // 1769 MB functions: per vCPU, the types that hold 4 x 1769 MB in 4 vCPUs ...
        let f = fit(&t, CHEAPEST, PriceColumn::LinuxOnDemand, 1769, false).unwrap();
        let chosen = t.get(&f.api_name).unwrap();
        assert!(!chosen.burstable);
        assert_eq!(f.slots, chosen.vcpus);
        assert!(chosen.memory_mib >= chosen.vcpus as u64 * 1769);
        // ... and no other non-burstable type that fits costs less per vCPU.
        let per =
            |x: &faasim_sim::vm::InstanceType| x.linux_on_demand.unwrap() as f64 / x.vcpus as f64;
        for o in t
            .types
            .iter()
            .filter(|o| !o.burstable && o.linux_on_demand.is_some())
        {
            if o.memory_mib >= o.vcpus as u64 * 1769 {
                assert!(per(o) >= per(chosen), "{} is cheaper", o.api_name);
            }
        }
        // Naming a burstable type is refused unless asked for.
        let e = fit(&t, "t2.micro", PriceColumn::LinuxOnDemand, 128, false).unwrap_err();
        assert!(e.to_string().contains("`t2.micro` is burstable"), "{e}");
        let f = fit(&t, "t2.micro", PriceColumn::LinuxOnDemand, 128, true).unwrap();
        assert!(f.warnings[0].contains("is burstable"));
    }

    #[test]
    fn memory_cuts_the_slots_by_hand() {
        // A 4-vCPU VM with 8 GiB = 8192 MiB: 3 executions of 2048 MB fit twice over
        // (8192 / 2048 = 4 slots), of 3000 MB only 2 (8192 / 3000 = 2.7), of 9000 MB none.
        let t = parse_instance_table(
            "api_name,vcpus,memory_gib,linux_on_demand_usd_per_hour\na,4,8,0.1\nb,2,16,0.3\n",
            "t.csv",
        )
        .unwrap();
        let f = fit(&t, "a", PriceColumn::LinuxOnDemand, 2048, false).unwrap();
        assert_eq!((f.slots, f.warnings.len()), (4, 0));
        let f = fit(&t, "a", PriceColumn::LinuxOnDemand, 3000, false).unwrap();
        assert_eq!(f.slots, 2);
        assert_eq!(f.table.get("a").unwrap().vcpus, 2);
        assert!(
            f.warnings[0].contains("hold only 2 executions"),
            "{:?}",
            f.warnings
        );
        let e = fit(&t, "a", PriceColumn::LinuxOnDemand, 9000, false).unwrap_err();
        assert!(e.to_string().contains("not one execution fits"), "{e}");
        // Cheapest per vCPU: a costs 0.025/vCPU but holds 4 x 3000 MB? No (8192 < 12000);
        // b holds 2 x 3000 in 16 GiB: b, although dearer per vCPU.
        let f = fit(&t, CHEAPEST, PriceColumn::LinuxOnDemand, 3000, false).unwrap();
        assert_eq!(f.api_name, "b");
        let f = fit(&t, CHEAPEST, PriceColumn::LinuxOnDemand, 2048, false).unwrap();
        assert_eq!(f.api_name, "a");
    }
}
