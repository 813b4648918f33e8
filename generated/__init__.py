"""Generated kernels (installed as ``symndk_generated``). Produced by ``symndk generate --update``; do not edit."""
