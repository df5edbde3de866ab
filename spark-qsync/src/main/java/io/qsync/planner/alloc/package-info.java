/**
 * The Allocator: greedy quantization-minimized precision planning under a cluster-time budget and per-device memory
 * ({@link io.qsync.planner.alloc.GreedyAllocator}), the exact reference search
 * ({@link io.qsync.planner.alloc.ExhaustiveAllocator}), the memory-only MILP
 * ({@link io.qsync.planner.alloc.MemoryMilp}) and batch rebalancing / leave-out decisions
 * ({@link io.qsync.planner.alloc.BatchRebalancer}). Pure Java, no Spark.
 */
package io.qsync.planner.alloc;
