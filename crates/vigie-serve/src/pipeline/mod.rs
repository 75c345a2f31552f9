//! The processor: takes queued batches, computes event keys, drops duplicates, runs the
//! one detection session (correlation in event time behind a watermark), updates live
//! incidents, and commits everything of a group of batches in one store transaction
//! before answering each batch. (Core engineer.)
