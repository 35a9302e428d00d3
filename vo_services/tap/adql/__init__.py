"""adql"""
