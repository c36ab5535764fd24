//! Rendering compiled steps.
