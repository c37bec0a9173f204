"""The pages' controllers, one module per audience."""
