"""The depth lab: vanishing and exploding gradients, residual connections, normalization."""
