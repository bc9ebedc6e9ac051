/**
 * What a mount tells its operator: the paths a build used ({@link dev.cairn.fuse.metrics.AccessLog}),
 * Prometheus counters ({@link dev.cairn.fuse.metrics.MountMetrics}) and warnings when its bounded
 * local store thrashes ({@link dev.cairn.fuse.metrics.ThrashDetector}).
 */
package dev.cairn.fuse.metrics;
