"""What the pages call things: one name (a word and its symbol) for every hyperparameter in every
lab, and the human label of each control the Share dialog can hide (`macros.ctl(name)`)."""

from __future__ import annotations

# API name → (word, symbol): "Learning rate η", "Momentum μ", "Weight decay λ" in every lab.
HYPERPARAMETERS: dict[str, tuple[str, str]] = {
    "lr": ("learning rate", "η"),
    "momentum": ("momentum", "μ"),
    "dampening": ("dampening", "τ"),
    "weight_decay": ("weight decay", "λ"),
    "nesterov": ("Nesterov", ""),
    "lr_decay": ("learning-rate decay", ""),
    "initial_accumulator_value": ("initial accumulator", ""),
    "eps": ("epsilon", "ε"),
    "alpha": ("smoothing", "α"),
    "centered": ("centered", ""),
    "beta1": ("first-moment decay", "β₁"),
    "beta2": ("second-moment decay", "β₂"),
    "amsgrad": ("AMSGrad", ""),
    "noise": ("gradient noise", "σ"),
    "batch_size": ("batch size", ""),
    # learning-rate schedules
    "step_size": ("step every", ""),
    "gamma": ("decay factor", "γ"),
    "T_max": ("period", "T"),
    "eta_min": ("minimum learning rate", "η_min"),
}


def hyper_label(name: str) -> str:
    """"Momentum μ": the word in sentence case, then its symbol (the API name if unknown)."""
    word, symbol = HYPERPARAMETERS.get(name, (name.replace("_", " "), ""))
    return f"{word[:1].upper()}{word[1:]} {symbol}".strip()


# Controls that several labs share keep one label; a lab may give its own in ctl(name, label).
CONTROL_LABELS: dict[str, str] = {
    "lr": hyper_label("lr"),
    "seed": "Seed",
    "dataset": "Dataset",
    "noise": "Noise",
    "activation": "Activation",
    "loss": "Loss",
    "hidden": "Hidden layers",
    "transport": "Play, step and reset",
    "speed": "Speed",
    "loss_chart": "Loss chart",
    "network": "Network diagram",
    # the toolbar (templates/partials/toolbar.html)
    "toolbar": "Whole toolbar",
    "presets": "Presets menu",
    "share": "Share / embed button",
    "export": "Export buttons",
    "import": "Import button",
    "keys": "Keyboard hint",
    "preset_hint": "Preset description",
}


def control_label(name: str) -> str:
    return CONTROL_LABELS.get(name, name.replace("_", " ").capitalize())
