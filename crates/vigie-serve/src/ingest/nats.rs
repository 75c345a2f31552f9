//! NATS JetStream input: a durable pull consumer, explicit ack after commit; and the
//! publisher (`Nats-Msg-Id` = event key). (Scale-out engineer.)
