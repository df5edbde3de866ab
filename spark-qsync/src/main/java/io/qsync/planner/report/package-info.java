/**
 * Plan output: {@link io.qsync.planner.report.ClusterPlan} (JSON), a readable table
 * ({@link io.qsync.planner.report.PlanTable}) and an HTML report with PNG charts
 * ({@link io.qsync.planner.report.PlanReport}). Pure Java, no Spark.
 */
package io.qsync.planner.report;
