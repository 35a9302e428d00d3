"""datalink"""
