//! Wires config, store, processor, sources, API and dashboard; runs until SIGTERM
//! (drain, checkpoint). (Core engineer.)
