//! `vigie serve --worker`: scale-out over one JetStream stream. (Scale-out engineer.)
