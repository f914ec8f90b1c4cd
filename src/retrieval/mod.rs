//! Retrieval: the embedder (fastembed) and the vector index (qdrant-edge).
