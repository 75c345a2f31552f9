//! Live incidents: respond's grouping over the live detections, updated as detections
//! arrive; decisions recomputed when an incident's compromised set changes (a decider
//! thread). (Core engineer.)
