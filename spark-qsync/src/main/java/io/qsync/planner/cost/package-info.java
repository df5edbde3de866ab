/**
 * Device cost profiles: per-layer measured times, fitted cast costs, a roofline fallback, interconnect and optimizer
 * costs ({@link io.qsync.planner.cost.DeviceProfile}), the datasheet catalog
 * ({@link io.qsync.planner.cost.DeviceCatalog}) and the lookup that turns them into seconds
 * ({@link io.qsync.planner.cost.CostModel}). Pure Java, no Spark.
 */
package io.qsync.planner.cost;
